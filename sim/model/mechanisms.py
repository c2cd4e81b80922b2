"""The mechanism registry: every switch of ``params.Mechanisms`` with the parameters that shape it,
where its code lives, the ablation that shows what it causes and the tests that pin it.

One table, so that ``run.py params``, ``--explain``'s help and ``docs/mechanisms.md`` (generated:
``python -m sim.app.docs``) cannot drift apart; a test fails when a switch has no entry, an entry
names a parameter, function or test that does not exist, or a switch is read in more than one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.params import Mechanisms


@dataclass(frozen=True)
class Mechanism:
    """One switchable mechanism. ``code``: ``module:function`` (or ``module:Class.method``), the
    first being where the switch is read; ``ablation``: the stylized fact in
    ``sim.experiments.ablations.ABLATIONS`` that switching it off removes (None: multi-year or not
    ablated); ``tests``: ``tests/file.py::test_name``."""

    switch: str
    reacts_to: str                 # completes "to change how consumers (or the market) react to ..."
    parameters: tuple[str, ...]
    code: tuple[str, ...]
    ablation: str | None
    tests: tuple[str, ...]

    @property
    def description(self) -> str:
        return Mechanisms.model_fields[self.switch].description or ""

    @property
    def scope(self) -> str:
        """``season`` (acts within a season) or ``years`` (acts between seasons of a multi-year run)."""
        return "years" if self.code[0].startswith("sim.model.ecosystem") else "season"


MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism(
        "anticipation", "an announced festival (waiting for it)",
        ("consumers.anticipation_days", "consumers.anticipation_strength", "consumers.anticipation_need",
         "consumers.festival_awareness"),
        ("sim.model.market:Market.offer", "sim.model.kernels.outside:outside_option"),
        "consumers defer purchases before the festival",
        ("tests/test_mechanisms.py::test_switching_the_cause_off_removes_at_least_half_and_an_unrelated_switch_does_not",
         "tests/test_stylized_facts.py::test_fact1_dip_before_and_slump_after_the_festival"),
    ),
    Mechanism(
        "presale", "pre-sale deposits and balances",
        ("festival.presale_reach", "festival.deposit_share", "festival.balance_default"),
        ("sim.model.calendar:build_calendar", "sim.model.kernels.session:takes_presale",
         "sim.model.fulfilment:Fulfilment._take_preorders", "sim.model.fulfilment:Fulfilment._balances_due"),
        "a burst of orders at the opening",
        ("tests/test_calendar.py::test_single_day_window_and_presale",
         "tests/test_stylized_facts.py::test_fact2_orders_burst_in_a_windows_first_hour_most_under_single_day"),
    ),
    Mechanism(
        "stockpiling", "deep discounts (buying ahead, extra consumption)",
        ("consumers.stockpile_rate", "consumers.stockpile_min_discount", "consumers.max_units", "consumers.expansion",
         "consumers.expansion_cap"),
        ("sim.model.agents.consumers:ConsumerPopulation.__init__", "sim.model.kernels.purchase:purchase_units",
         "sim.model.kernels.purchase:need_relief", "sim.model.kernels.purchase:ordinary_share"),
        "a slump after the festival",
        ("tests/test_mechanisms.py::test_the_slump_is_need_met_early_and_remembered_prices_not_money",
         "tests/test_choice.py::test_units_draw_inverts_the_poisson_cdf"),
    ),
    Mechanism(
        "reference_prices", "prices against the ones they remember",
        ("consumers.reference_weight", "consumers.loss_aversion", "consumers.reference_smoothing",
         "consumers.reference_recovery", "consumers.reference_memory_weeks"),
        ("sim.model.agents.consumers:ConsumerPopulation.__init__", "sim.model.kernels.choice:reference_gain",
         "sim.model.kernels.reference:updated_reference", "sim.model.kernels.reference:fade_references"),
        "a slump after the festival",
        ("tests/test_mechanisms.py::test_the_slump_is_need_met_early_and_remembered_prices_not_money",),
    ),
    Mechanism(
        "deadline_urgency", "a window about to close",
        ("consumers.urgency_strength", "consumers.urgency_activity", "consumers.urgency_hours"),
        ("sim.model.market:Market.offer", "sim.model.kernels.outside:outside_option",
         "sim.model.kernels.activity:activate_hour"),
        "a second peak before the close",
        ("tests/test_mechanisms.py::test_deadline_urgency_makes_a_second_peak",),
    ),
    Mechanism(
        "delay_experience", "the delivery delay they really had",
        ("experience.delay_weight", "experience.return_delay_slope", "consumers.delay_aversion"),
        ("sim.model.fulfilment:Fulfilment.__init__", "sim.model.fulfilment:Fulfilment.deliver",
         "sim.model.kernels.fulfilment:deliver"),
        "single day leaves consumers less satisfied",
        ("tests/test_economy.py::test_a_day_of_delivery_delay_costs_about_one_and_a_half_percent_of_online_sales",),
    ),
    Mechanism(
        "offline_integration", "offline venues that join the festival",
        ("venues.digital_integration", "venues.festival_offline_pull", "venues.turned_away_online",
         "venues.pickup_share", "venues.popup_lead_days"),
        ("sim.model.market:Market.__init__", "sim.model.market:Market._venue_traffic",
         "sim.model.kernels.session:admit", "sim.model.kernels.purchase:pickup_venue"),
        "offline venues gain on Nov 11",
        ("tests/test_venues.py::test_pop_up_stores_open_only_with_offline_integration",
         "tests/test_venues.py::test_orders_picked_up_at_a_venue_are_online_sales",
         "tests/test_mechanisms.py::test_offline_venues_gain_on_the_festival_day"),
    ),
    Mechanism(
        "entry_exit", "losses and profits between seasons (brands leave and enter)",
        ("brands.exit_after_years", "brands.entry_rate", "brands.entry_sensitivity", "brands.entrant_small_share",
         "brands.entrant_scale", "brands.max_entrants", "platform.merchant_rule_cost", "platform.rule_cut"),
        ("sim.model.ecosystem:Ecosystem.between_seasons", "sim.model.ecosystem:Ecosystem._exits",
         "sim.model.ecosystem:Ecosystem._entries"),
        None,
        ("tests/test_ecosystem.py::test_exit_entry_and_investment_cause_at_least_half_of_that_growth",
         "tests/test_ecosystem.py::test_rule_simplification_raises_small_brand_entry"),
    ),
    Mechanism(
        "investment", "the return on quality under the policy in force",
        ("investment.quality_cost", "investment.horizon_years", "investment.profit_share", "investment.max_step"),
        ("sim.model.ecosystem:Ecosystem.between_seasons", "sim.model.agents.brands:Brand.invest_in_quality"),
        None,
        ("tests/test_ecosystem.py::test_quality_feedback_raises_the_quality_sold_more_and_investment_is_why",),
    ),
    Mechanism(
        "innovation", "products designed from the platform's demand data",
        ("innovation.centres", "innovation.launch_days", "innovation.launch_weeks", "innovation.launch_slot",
         "innovation.fit_gain", "innovation.launch_size", "innovation.success_threshold"),
        ("sim.model.ecosystem:Ecosystem.between_seasons", "sim.model.ecosystem:Ecosystem._launch_products",
         "sim.model.ecosystem:Ecosystem.daily"),
        None,
        ("tests/test_ecosystem.py::test_innovation_centres_launch_products_and_their_makers_grow",),
    ),
    Mechanism(
        "rival", "other sellers (buying there instead)",
        ("rival.pull", "rival.experience_slope", "rival.discount", "rival.shopping_per_week"),
        ("sim.model.agents.rival:RivalPlatform.__init__", "sim.model.agents.rival:RivalPlatform.step"),
        None,
        ("tests/test_ecosystem.py::test_a_rival_takes_purchases_this_platform_misses_and_only_when_it_exists",
         "tests/test_mechanisms.py::test_a_festival_draws_buyers_from_other_sellers"),
    ),
    Mechanism(
        "acquisitions", "small brands that outgrow big groups (bought by them)",
        ("brands.acquisition_rate", "brands.acquisition_capacity"),
        ("sim.model.ecosystem:Ecosystem.between_seasons", "sim.model.ecosystem:Ecosystem._acquisitions",
         "sim.model.market:Market.widen_shelves"),
        None,
        ("tests/test_ecosystem.py::test_every_year_is_reported",),
    ),
)

BY_SWITCH: dict[str, Mechanism] = {m.switch: m for m in MECHANISMS}
