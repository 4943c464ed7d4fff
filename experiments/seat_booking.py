"""Seat booking: a show has so many seats, and a booking checks there is one left.

A user-style scenario written as a module (no class: the module itself is the scenario). Race it
with

    concord race --scenario experiments/seat_booking.py --isolation "read committed,serializable"

Each transaction picks a show, reads how many seats it has sold, and when one is left books it
(a row in ``bookings``) and writes the count back; when the show is full it cancels the oldest
booking instead, so the shows stay nearly full and bookings keep racing for the last seats. Two
bookings that read the same count both see a seat left: the show is oversold.
"""

name = "seat-booking"
invariant = "no show has more bookings than seats, and each show's sold count matches its bookings"
summary = "check-then-book on a counter per show; full shows cancel their oldest booking"
default_strategies = ("none", "pessimistic", "optimistic", "advisory")

SHOWS = 4
SEATS = 20


def setup(conn):
    conn.execute("DROP TABLE IF EXISTS bookings, shows")
    conn.execute(
        "CREATE TABLE shows (id integer PRIMARY KEY, seats integer NOT NULL,"
        " sold integer NOT NULL DEFAULT 0, version integer NOT NULL DEFAULT 0)"
    )
    conn.execute("CREATE TABLE bookings (id bigserial PRIMARY KEY, show_id integer NOT NULL, worker integer)")
    conn.execute(
        "INSERT INTO shows (id, seats) SELECT n, %s FROM generate_series(0, %s) AS n", (SEATS, SHOWS - 1)
    )


def transaction(tx):
    show = tx.rng.randrange(SHOWS)
    tx.lock("shows", show)
    seats, sold = tx.read("shows", show, ["seats", "sold"])
    if sold < seats:
        tx.execute("INSERT INTO bookings (show_id, worker) VALUES (%s, %s)", (show, tx.worker))
        tx.write("shows", show, {"sold": sold + 1})
    else:
        tx.execute(
            "DELETE FROM bookings WHERE id = (SELECT min(id) FROM bookings WHERE show_id = %s)", (show,)
        )
        tx.write("shows", show, {"sold": sold - 1})


def check(conn):
    rows = conn.execute(
        "SELECT s.id, s.seats, s.sold, count(b.id) FROM shows s LEFT JOIN bookings b ON b.show_id = s.id"
        " GROUP BY s.id ORDER BY s.id"
    ).fetchall()
    found = []
    for show, seats, sold, booked in rows:
        if booked > seats:
            found.append(f"show {show} is oversold: {booked} bookings for {seats} seats")
        if sold != booked:
            found.append(f"show {show} says {sold} sold but has {booked} bookings")
    return found
