"""The ActiveCampaign v3 sandbox: see app.py."""
