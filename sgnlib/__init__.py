"""sgnlib: the helper library of sgn-book (Wu, Luo, Zhang, Wang, Yang: "Revisiting the
Characteristics of Stochastic Gradient Noise and Dynamics")."""
__version__ = "0.1.0"
