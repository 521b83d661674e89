"""Packaged data of the mainland-China business calendar (工作日历).

One JSON file per calendar year (``<year>.json``) holds that year's holiday arrangement
(放假安排): the days off (法定节假日, including bridging days 调休放假 and the weekend days
inside a holiday period) with their names, and the adjusted working days (调休上班). The
file ``index.json`` lists the years. :mod:`domain.calendar` reads them with
:mod:`importlib.resources`; :mod:`domain.calendar_data.generate` (run by hand) wrote them.
"""
