"""Privacy: personal data sealed with a key per person (crypto-shredding), and forgetting a person."""
