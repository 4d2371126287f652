"""Pure analysis functions on structures and trajectories (no I/O, no engines).

``descriptors``: contact-area fraction, bonds and coordination across an interface, interphase thickness,
interfacial voids. ``dynamics``: MSD and diffusion coefficients, Arrhenius fits, NVE energy drift,
traction and fracture energy of a pull-off curve.
"""
