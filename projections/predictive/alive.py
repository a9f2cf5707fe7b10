"""P(alive) of BG/NBD and MBG/NBD in plain arithmetic: elementwise on numpy arrays for a whole
customer base (``bgnbd.p_alive``, ``mbgnbd.p_alive``), and on one customer's numbers inside the
lifecycle reducer, which must not import numpy or scipy for it (``projections/lifecycle.py``).

Inputs as the models take them: ``x`` repeat purchases, ``t_x`` the last purchase and ``T`` the
age, both in days from the first purchase.
"""

from typing import TypeVar

N = TypeVar("N")  # a float, or a numpy array of them


def bgnbd(r: float, alpha: float, a: float, b: float, x: N, t_x: N, T: N) -> N:
    """BG/NBD (Fader, Hardie & Lee 2005, eq. 11): 1 until the first repeat purchase, since a customer
    only drops out right after a purchase that is not their first."""
    none = x == 0
    odds = a / (b + x - 1 + none) * ((alpha + T) / (alpha + t_x)) ** (r + x)  # + none: no division by zero where x = 0 (masked below)
    return 1.0 / (1.0 + odds * (x > 0))


def mbgnbd(r: float, alpha: float, a: float, b: float, x: N, t_x: N, T: N) -> N:
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): a customer may drop out after the first purchase too."""
    return 1.0 / (1.0 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))


BY_MODEL = {"bgnbd": bgnbd, "mbgnbd": mbgnbd}
