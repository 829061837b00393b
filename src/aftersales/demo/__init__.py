"""The demo company behind ``aftersales seed_demo``: a Chinese sanitary-ware brand.

``catalogue`` holds the fixed data (regions, products, names, ticket texts), ``organisation``
creates regions, teams, staff and product models, ``customers`` the customer base and
``tickets`` a few months of work orders with a legal lifecycle history. ``builder`` ties them
together. Everything random comes from one ``random.Random(seed)``, so a seed and an anchor
time give the same company every time.
"""
