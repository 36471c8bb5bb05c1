"""What the platform gives back to its sellers and works councils from the data it already
holds: a seller's audience and sales dashboard (views counted by marketplace/audience.py,
orders, pickup slots, gift cards) and the impact of the sales (objects reused, waste kept out
of landfill), on the shopfronts and as yearly PDF reports. It reads across catalog, pickup,
orders, giftcards and campaigns, and writes nothing: it sits above them all (docs/architecture.md).
"""
