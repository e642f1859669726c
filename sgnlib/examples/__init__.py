"""Small models to try `sgn-probe` on (see README, "Run it on your model")."""
