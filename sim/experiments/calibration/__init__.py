"""Calibration to published figures: spec, ABC-SMC (pyabc), posterior predictive check, parameter sets."""


class CalibrationError(ValueError):
    """A calibration spec, folder or option that cannot be used; the message is one line naming the field."""
