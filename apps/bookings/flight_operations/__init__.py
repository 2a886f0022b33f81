"""The flight operations page for airline staff, in the admin: one flight's load per cabin, its
passenger manifest (on the page and as a CSV download) and cancelling it with a reason.

It lives in the bookings app because the load and the manifest are bookings' seats; the flight's
cancel is the flights app's service (`flight_cancel`), which the page calls as the admin action does.
The page is described in docs/FLIGHT_OPERATIONS.md.
"""
