"""The ZE Trials web app. Its factory is app.factory.create_app; this package imports nothing itself, so that the
`zetrials` command line loads only what a command needs, not the web pages, the dashboard and the API document."""
