"""Multi-touch lead attribution: which touches (posts, ads, campaigns) led to a conversion.

``paths`` turns touchpoints and conversions into one path per conversion (and one per
person who never converted, which the Markov model needs); ``credit`` holds the five rule
models, ``markov`` the data-driven removal-effect model; ``service`` reads the store and
answers reports by campaign, channel or platform, and per lead or deal.
"""
