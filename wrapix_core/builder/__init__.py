"""The Linux builder: a container running sshd and the Nix daemon for remote builds."""
