"""Probabilistic customer-base models over purchase facts: BG/NBD for purchase counts and P(alive),
Gamma-Gamma for spend per purchase, and the discounted CLV they give (README "Predictions").

Pure numpy/scipy, fitted by maximum likelihood on the published likelihoods (Fader, Hardie & Lee
2005: "Counting your customers the easy way", and "RFM and CLV"). Fitting crosses customers, so it
runs in a batch (``cdp.services.value``), never inside a per-customer reducer; the fitted
parameters are stored as versioned data so predictions are reproducible.
"""
