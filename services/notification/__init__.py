"""Notification: tells citizens about their offers (SMS, e-mail, in-app inbox, or a caseworker in person) and
serves the citizen page where they read why and accept or decline."""
