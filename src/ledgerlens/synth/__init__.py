"""The synthetic SME world: realistic businesses whose every transaction carries its truth.

``generate_world(n_businesses, months, seed)`` simulates the businesses (in a process pool);
``write_world(world, out_dir, formats)`` writes canonical CSV, truth files and real statement
formats (CAMT.053, MT940, bank CSV). See docs/synthetic-world.md.
"""

from ledgerlens.synth.anomalies import ANOMALY_KINDS
from ledgerlens.synth.archetypes import ARCHETYPES, Archetype
from ledgerlens.synth.model import FutureItem, SimAccount, SimBusiness, SimTxn, World
from ledgerlens.synth.world import generate_world, world_calendar
from ledgerlens.synth.writers import FORMATS, write_world

__all__ = [
    "ANOMALY_KINDS",
    "ARCHETYPES",
    "FORMATS",
    "Archetype",
    "FutureItem",
    "SimAccount",
    "SimBusiness",
    "SimTxn",
    "World",
    "generate_world",
    "world_calendar",
    "write_world",
]
