"""Hourly recorder and the per-run metrics (names are the contract in MODEL.md)."""

from __future__ import annotations

ARCHETYPES = ("big", "small", "low_quality")
VENUE_TYPES = (
    "tmall_online", "department_store", "hypermarket", "home_furnishing", "rural_service_point",
    "local_services", "popup_store", "corner_store", "appliance_chain",
)

RUN_METRICS = (
    "gmv_total", "gmv_festival", "gmv_incremental", "gmv_festival_lift", "orders_total",
    "peak_orders_per_hour", "peak_to_mean", "pre_festival_dip", "post_festival_slump",
    "max_logistics_backlog", "mean_delivery_delay_h", "p95_delivery_delay_h", "return_rate",
    "stockout_rate", "satisfaction_mean", "churn_rate", "consumer_surplus", "hhi_final", "cr4_final",
    "gini_brand_sales", "small_brand_share", "low_quality_share", "quality_weighted_share",
    "online_share", "offline_gmv_lift", "platform_subsidy_cost", "platform_commission",
    "brand_profit_big", "brand_profit_small", "brand_profit_low_quality",
)
# Metrics measured against the paired `none` run on the same seed.
RELATIVE_METRICS = ("gmv_incremental", "gmv_festival_lift", "pre_festival_dip", "post_festival_slump", "offline_gmv_lift")
