"""The Qt desktop app. Talks to the core through ``services.Services``; never imports ccxt or keyring."""
