"""The components: one OIDC provider per account (:mod:`.provider`), one role per role (:mod:`.role`), and the
organization that multiplies them (:mod:`.organization`)."""
