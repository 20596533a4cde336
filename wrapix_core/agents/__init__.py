"""The coding agents wrapix can run: one record per agent (:mod:`.registry`), the
configuration files each gets inside a sandbox (:mod:`.files`), their notification
hooks (:mod:`.notify`) and Ralph's adapter per agent (:mod:`.ralph`)."""
