"""Inbound ActiveCampaign webhooks (S-6.4): automations create or update Dynamics records.

`POST /hooks/activecampaign/<secret>/` (views.receive) checks the secret, parses the
form-encoded body (payload), limits the rate per integration and stores the delivery
(services.webhook_receive); a Celery task processes it (services.webhook_delivery_process)
through the engine's single-record sync of the ActiveCampaign contact, so that the mapping,
the links and the run history are the scheduled sync's own.
"""
