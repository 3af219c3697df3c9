"""What the demo accounts did over the last nine days, replayed on the real app.

Every step is a request through the site (sign in, browse, sign out, come back
after a break) or a call to django-sessionguard's services (revoking), made at
a moment set on the :class:`~example_project.demo.clock.VirtualClock`. The
result is what the product records over nine days:

* alice: four live sessions (Chrome on a Windows desktop, Safari on an
  iPhone that moved from home Wi-Fi to the mobile network, Firefox on an
  Android phone, a ``curl`` script); earlier, a sign-out and a session on a
  friend's computer that she revoked herself;
* bob: two live sessions (Safari on a Mac and on an iPhone); earlier, a
  sign-out, a session that expired after inactivity, and a phone whose
  session staff revoked;
* staff: two live sessions, the staff limit; a third sign-in evicted the
  least recently active one (an iPad);
* a crawler (Googlebot) that fetched the home page: an anonymous session of
  device type "bot".

carol has no history: she is there to try the short idle timeout.

Live sessions were last active at most 13 minutes before seeding, well within
the demo's two-hour idle timeout (``example_project.demo.limits``), so they
stay listed for more than an hour and a half after ``seed_demo``. Sign-ins
are spread over nine days for the dashboard's chart.

Addresses come from the documentation ranges (RFC 5737, RFC 3849).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse

from django_sessionguard import services
from example_project.demo import browsers
from example_project.demo.accounts import ALICE, BOB, STAFF
from example_project.demo.browsers import Browser, Device
from example_project.demo.clock import VirtualClock

#: Between two requests of someone at work on a device: under the idle timeout.
STEP = timedelta(minutes=12)

OFFICE = "198.51.100.23"
ALICE_HOME = "203.0.113.24"
ALICE_MOBILE = "2001:db8:4f2a:1::17"
ALICE_PHONE = "2001:db8:7a1::2a"
FRIENDS_HOME = "203.0.113.201"
SCRIPT_SERVER = "192.0.2.10"
BOB_OFFICE = "198.51.100.140"
BOB_HOME = "203.0.113.57"
BOB_MOBILE = "2001:db8:77::5"
BOB_STOLEN_PHONE = "2001:db8:9c1::42"
HOTEL = "192.0.2.77"
STAFF_OFFICE = "198.51.100.10"
STAFF_HOME = "203.0.113.88"
JUMP_HOST = "192.0.2.20"
CRAWLER = "192.0.2.66"


class Story:
    """The demo's nine days, told through browsers and services on one clock."""

    def __init__(self, clock: VirtualClock, users: dict[str, Any]) -> None:
        self.clock = clock
        self.users = users
        self.home = reverse("home")
        self.devices = reverse("sessionguard:list")
        self.dashboard = reverse("admin:django_sessionguard_session_dashboard")
        self.api = reverse("sessionguard:api-list")

    def at(self, moment: datetime) -> datetime:
        self.clock.go(moment)
        return moment

    def open(self, device: Device, ip: str, when: datetime) -> Browser:
        self.at(when)
        return Browser(device, ip)

    def browse(
        self, browser: Browser, start: datetime, end: datetime, *paths: str
    ) -> None:
        """A request every :data:`STEP` from ``start`` to ``end``, cycling ``paths``."""
        paths = paths or (self.home, self.devices)
        moment, index = start, 0
        while moment <= end:
            self.at(moment)
            browser.get(paths[index % len(paths)])
            moment, index = moment + STEP, index + 1
        if moment - STEP < end:
            self.at(end)
            browser.get(paths[index % len(paths)])

    def crawl(self, device: Device, ip: str, when: datetime, *paths: str) -> None:
        """A crawler's visit: one request per path, each without cookies."""
        self.at(when)
        for path in paths:
            Browser(device, ip).get(path)

    def tell(self) -> None:
        self.alice()
        self.bob()
        self.staff()
        self.crawler()

    # -- the people ---------------------------------------------------------

    def alice(self) -> None:
        ago = self.clock.ago
        # Eight days ago at the office: an hour's work, then "Log out".
        desk = self.open(browsers.WINDOWS_CHROME, OFFICE, ago(days=8, hours=6))
        desk.sign_in(ALICE)
        self.browse(desk, ago(days=8, hours=6), ago(days=8, hours=5))
        desk.sign_out()

        # Four days ago on a friend's computer; she forgot to sign out there
        # and ended that session from "Your devices" a little later.
        friend = self.open(browsers.WINDOWS_FIREFOX, FRIENDS_HOME, ago(days=4, hours=3))
        friend.sign_in(ALICE)
        self.browse(friend, ago(days=4, hours=3), ago(days=4, hours=2, minutes=50))
        reference = friend.reference()
        self.at(ago(days=4, hours=2, minutes=40))
        services.revoke_session(
            self.users["alice"], reference, actor=self.users["alice"]
        )

        # Today: the four sessions she has now. Each device's day is replayed
        # in one go; the desk's comes first, so that when the next device
        # signs in it is already active (a session idle longer than the
        # timeout would not count towards her limit: it would be ended).
        desk = self.open(browsers.WINDOWS_CHROME, OFFICE, ago(hours=5))
        desk.sign_in(ALICE)
        self.browse(desk, ago(hours=5), ago(minutes=2))
        phone = self.open(browsers.IPHONE_SAFARI, ALICE_HOME, ago(hours=4, minutes=10))
        phone.sign_in(ALICE)
        self.browse(phone, ago(hours=4, minutes=10), ago(hours=3, minutes=20))
        # On the way to work: the same session from the mobile network.
        phone.move_to(ALICE_MOBILE)
        self.browse(phone, ago(hours=3, minutes=10), ago(minutes=6))
        work_phone = self.open(
            browsers.ANDROID_FIREFOX, ALICE_PHONE, ago(hours=1, minutes=30)
        )
        work_phone.sign_in(ALICE)
        self.browse(work_phone, ago(hours=1, minutes=30), ago(minutes=11))
        script = self.open(browsers.CURL, SCRIPT_SERVER, ago(minutes=35))
        script.sign_in(ALICE)
        self.browse(script, ago(minutes=35), ago(minutes=13), self.api)

    def bob(self) -> None:
        ago = self.clock.ago
        # Nine days ago at the office, signed out properly.
        mac = self.open(browsers.MAC_SAFARI, BOB_OFFICE, ago(days=9, hours=5))
        mac.sign_in(BOB)
        self.browse(mac, ago(days=9, hours=5), ago(days=9, hours=4, minutes=30))
        mac.sign_out()

        # Six days ago in a hotel's business centre: he walked away, and the
        # next click, three hours later (past the two-hour idle timeout),
        # found the session expired.
        hotel = self.open(browsers.WINDOWS_EDGE, HOTEL, ago(days=6, hours=4))
        hotel.sign_in(BOB)
        self.browse(hotel, ago(days=6, hours=4), ago(days=6, hours=3, minutes=50))
        self.at(ago(days=6, minutes=50))
        hotel.get(self.devices, status=302)

        # Two days ago his phone was stolen; staff revoked its session, and
        # the thief's next request was anonymous.
        stolen = self.open(
            browsers.ANDROID_CHROME, BOB_STOLEN_PHONE, ago(days=2, hours=3)
        )
        stolen.sign_in(BOB)
        self.browse(stolen, ago(days=2, hours=3), ago(days=2, hours=2, minutes=52))
        reference = stolen.reference()
        self.at(ago(days=2, hours=2, minutes=45))
        services.revoke_session(
            self.users["bob"],
            reference,
            actor=self.users["staff"],
            reason="Phone reported stolen (ticket 4812)",
        )
        self.at(ago(days=2, hours=2, minutes=40))
        stolen.get(self.devices, status=302)

        # Today: the Mac at home and the iPhone.
        mac = self.open(browsers.MAC_SAFARI, BOB_HOME, ago(hours=2, minutes=30))
        mac.sign_in(BOB)
        self.browse(mac, ago(hours=2, minutes=30), ago(minutes=8))
        phone = self.open(browsers.IPHONE_SAFARI, BOB_MOBILE, ago(minutes=50))
        phone.sign_in(BOB)
        self.browse(phone, ago(minutes=50), ago(minutes=4))

    def staff(self) -> None:
        ago = self.clock.ago
        desk = self.open(browsers.UBUNTU_FIREFOX, STAFF_OFFICE, ago(hours=3))
        desk.sign_in(STAFF)
        self.browse(desk, ago(hours=3), ago(minutes=47), self.dashboard, self.home)
        tablet = self.open(browsers.IPAD_SAFARI, STAFF_HOME, ago(hours=2))
        tablet.sign_in(STAFF)
        self.browse(tablet, ago(hours=2), ago(minutes=52), self.dashboard)
        # A third sign-in over the staff limit of two: the least recently
        # active session (the iPad) is evicted, and told so on its next click.
        jump = self.open(browsers.WINDOWS_EDGE, JUMP_HOST, ago(minutes=45))
        jump.sign_in(STAFF)
        self.at(ago(minutes=40))
        tablet.get(self.dashboard, status=302)
        self.browse(jump, ago(minutes=45), ago(minutes=9), self.dashboard)
        self.browse(desk, ago(minutes=35), ago(minutes=3), self.dashboard, self.home)

    def crawler(self) -> None:
        # An hour ago a crawler fetched the home page and the login page. It
        # keeps no cookies; the home page keeps a visit count in the session
        # of visitors who are not signed in, so its visit there is recorded as
        # an anonymous session, parsed as a bot (the login page stores nothing).
        self.crawl(
            browsers.GOOGLEBOT,
            CRAWLER,
            self.clock.ago(hours=1),
            self.home,
            reverse("login"),
        )
