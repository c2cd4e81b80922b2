"""The report's glossary: the terms a strategist meets in it, in plain words.

Consumer surplus gets the longest entry because its numbers surprise: it can exceed GMV,
and it is judged at the moment of choice, satisfaction after delivery.
"""

from __future__ import annotations

from sim.app.report.blocks import Block

GLOSSARY: tuple[tuple[str, str], ...] = (
    ("Incremental GMV", "season GMV minus that of the same arm's own no-festival run (same policy, same seed). "
     "It nets out the demand the festival only moved from other days (the dip before, the slump after), so it is the "
     "festival's real gain and compares formats of any length."),
    ("Festival-period GMV", "GMV summed over the festival period: 1 day for single_day, 11 for continuous. It grows "
     "with the period's length, so it never ranks arms; GMV per festival day divides it by the period's length."),
    ("Pre-festival dip", "1 - GMV in the 7 days before the festival period (the first window, unless "
     "festival.accounting sets another start) over the no-festival run's, as booked: "
     "pre-orders placed in those days are booked when their window opens, so part of the dip is accounting "
     "(pre_festival_deferral counts demand when it is committed)."),
    ("Post-festival slump", "1 - GMV in the 7 days after the festival period (the last window, unless festival.accounting "
     "sets another end) over the no-festival run's. In the model it "
     "is mostly forward buying: consumers buy at the festival what they would have bought in the following days "
     "(and some units beyond need), so they need less afterwards; remembered festival prices make the next week's "
     "prices feel dear, and the delivery backlog makes new orders wait (docs/ablations.md)."),
    ("Peak logistics backlog", "the largest number of parcels waiting for dispatch at any hour of the season: the "
     "load the festival puts on logistics. Orders merchants have not yet processed wait in the order queue "
     "before that and are not counted (hourly table: processing_backlog)."),
    ("95th pct delivery delay", "the wait (hours, beyond normal transit) that 95% of online orders do not exceed."),
    ("Platform net cost", "subsidies the platform pays minus what brands pay it: commission on sales and their ad "
     "spend (ads buy exposure only under GMV rank, so a ranking that ignores them forgoes that income); negative "
     "means the platform earns more than it spends."),
    ("Consumer surplus", "the money value, at the moment of choice, of the options a shopping session offers over "
     "buying nothing (the logit log-sum, converted to yuan at the consumer's marginal utility of money). It is "
     "counted for every session, including those that end without a purchase, and includes how much buyers value "
     "what they buy above its price, so it can exceed GMV: it is a measure of welfare, not of money spent. It is "
     "judged before the order, from the prices, qualities and ratings on show; satisfaction is judged after it, "
     "from the quality, service, delay and returns actually experienced, so the two need not move together "
     "(an offer that looks like a bargain can disappoint after delivery). Waiting for a coming festival and the "
     "urgency of a closing one change what a consumer chooses, not what is on show, so they are not counted."),
    ("Consumer satisfaction", "each consumer's running score (0-1) of experienced outcomes, averaged over consumers "
     "who have not churned."),
    ("Churn", "the share of consumers who stopped shopping for a while after a bad experience."),
    ("Paired difference", "an arm minus the reference, replication by replication on the same seeds (the same "
     "consumers, brands and random streams), so shared noise cancels; its 95% confidence interval is a Student-t "
     "interval over replications."),
    ("q-value (BH)", "a p-value adjusted by the Benjamini-Hochberg procedure over every comparison in the report. "
     "'Clearly better/worse' means q < 0.05: among all differences called clear, at most 5% are expected to be "
     "false discoveries. Confidence intervals are not adjusted."),
    ("Pareto-efficient arm", "an arm that no other arm beats on both axes of a trade-off figure (more incremental "
     "GMV and less load or delay)."),
    ("Share of the difference a mechanism accounts for", "(difference with every mechanism on − difference with that "
     "mechanism switched off in both arms) / difference with every mechanism on. Shares need not add up to 100%: "
     "mechanisms interact."),
)


def glossary_blocks() -> list[Block]:
    return [Block("h2", "Glossary"), Block("ul", items=[f"**{term}**: {text}" for term, text in GLOSSARY])]
