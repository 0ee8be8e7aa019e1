"""RAM balancing of flagged host aggregates: pure decisions over ``cloud_manager.model``.

``load`` holds the spec's definitions (RAM load, "loaded" with ``approx``), ``hosts`` the
balancing state shared by the planner and any baseline, ``planner`` the plan of live
migrations, ``report`` each host's load before and after a plan, ``snapshot`` the JSON form
of a model (``openstack aos balancing export`` / ``plan --inventory``).
"""

from cloud_manager.balancing.load import BALANCING_KEY, is_flagged, is_loaded, mean_load
from cloud_manager.balancing.planner import UnknownAggregate, plan_balancing

__all__ = ["BALANCING_KEY", "UnknownAggregate", "is_flagged", "is_loaded", "mean_load",
           "plan_balancing"]
