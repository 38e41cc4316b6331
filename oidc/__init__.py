"""Connect Pulumi Cloud (Deployments and ESC) to AWS with OpenID Connect."""
