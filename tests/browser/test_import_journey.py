"""A leader imports their school's roster from a district's OneRoster export: they pick their
school, see what the import would do, and only then say yes."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.async_api import Browser, Page, expect

from .steps import assert_accessible, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
LEADER = ("leader@demo.school", "demo-leader-pass")
STAMP = "2026-08-28T09:00:00.000Z"
DEMO, HILL = "org-demo", "org-hill"
WHOLE_SCHOOL = re.compile("This file lists everyone at the school")

USERS = (
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
    "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
    "preferredFamilyName,primaryOrgSourcedId,pronouns"
)


def _user(source_id: str, given: str, family: str, org: str, email: str = "") -> str:
    return (
        f"{source_id},active,{STAMP},true,{source_id},,{given},{family},,,{email},,,,,,,,,,,{org},"
    )


def district_export(*, without: str | None = None) -> bytes:
    """A trust's OneRoster 1.2 export with two schools, one of them the demo school (whose
    pupils and classes the file names by the demo's own source ids): Ada stays in Oak, Ben
    moves to Willow, Zara is new; Rowan has no grades (allowed, so it is a warning, line 4 of
    classes.csv); a guardian row and Hill Top's rows are passed over. ``without`` leaves out
    every row that names that org: the file of the other school alone."""
    files = {
        "manifest.csv": [
            "propertyName,value",
            "manifest.version,1.0",
            "oneroster.version,1.2",
            "file.orgs,bulk",
            "file.academicSessions,bulk",
            "file.classes,bulk",
            "file.users,bulk",
            "file.roles,bulk",
            "file.enrollments,bulk",
        ],
        "orgs.csv": [
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
            f"org-trust,active,{STAMP},Riverside Learning Trust,district,,",
            f"{DEMO},active,{STAMP},Demo Primary School,school,URN 100001,org-trust",
            f"{HILL},active,{STAMP},Hill Top Primary,school,URN 100002,org-trust",
        ],
        "academicSessions.csv": [
            "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,"
            "schoolYear",
            f"sy-2027,active,{STAMP},2026/27,schoolYear,2026-09-01,2027-07-21,,2027",
        ],
        "classes.csv": [
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
            "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
            f"oak,active,{STAMP},Oak,03,course-3,OAK,homeroom,,{DEMO},sy-2027,,,",
            f"willow,active,{STAMP},Willow,03,course-3,WIL,homeroom,,{DEMO},sy-2027,,,",
            f"rowan,active,{STAMP},Rowan,,course-r,ROW,homeroom,,{DEMO},sy-2027,,,",
            f"hill-3,active,{STAMP},Kestrels,03,course-h3,KES,homeroom,,{HILL},sy-2027,,,",
        ],
        "users.csv": [
            USERS,
            _user("ada", "Ada", "Lovelace", DEMO),
            _user("ben", "Ben", "Okri", DEMO),
            _user("zara", "Zara", "Quinn", DEMO),
            _user("staff-oak", "Olive", "Oak", DEMO, "teacher@demo.school"),
            _user("carer-ada", "Grace", "Lovelace", DEMO, "grace@example.org"),
            _user("hill-p1", "Hana", "Hill", HILL),
            _user("hill-p2", "Hugo", "Hill", HILL),
            _user("hill-t1", "Harriet", "Hawk", HILL, "hawk@hill.example"),
        ],
        "roles.csv": [
            "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
            "orgSourcedId,userProfileSourcedId",
            *(
                f"role-{user},active,{STAMP},{user},primary,{role},,,{org},"
                for user, role, org in (
                    ("ada", "student", DEMO),
                    ("ben", "student", DEMO),
                    ("zara", "student", DEMO),
                    ("staff-oak", "teacher", DEMO),
                    ("carer-ada", "guardian", DEMO),
                    ("hill-p1", "student", HILL),
                    ("hill-p2", "student", HILL),
                    ("hill-t1", "teacher", HILL),
                )
            ),
        ],
        "enrollments.csv": [
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
            "primary,beginDate,endDate",
            *(
                f"enr-{user},active,{STAMP},{klass},{org},{user},{role},,,"
                for user, klass, org, role in (
                    ("ada", "oak", DEMO, "student"),
                    ("ben", "willow", DEMO, "student"),
                    ("zara", "oak", DEMO, "student"),
                    ("staff-oak", "oak", DEMO, "teacher"),
                    ("hill-p1", "hill-3", HILL, "student"),
                    ("hill-p2", "hill-3", HILL, "student"),
                    ("hill-t1", "hill-3", HILL, "teacher"),
                )
            ),
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, lines in files.items():
            kept = [line for line in lines if without is None or without not in line]
            archive.writestr(name, "\n".join(kept) + "\n")
    return buffer.getvalue()


async def upload(page: Page, *, whole_school: bool = False, without: str | None = None) -> None:
    export = district_export(without=without)
    await page.get_by_label("Roster file").set_input_files(
        files=[{"name": "trust-export.zip", "mimeType": "application/zip", "buffer": export}]
    )
    await page.get_by_label(WHOLE_SCHOOL).set_checked(whole_school)
    await page.get_by_role("button", name="Upload and check").click()


async def choose_demo_school(leader: Page) -> None:
    await expect(leader.get_by_role("heading", level=2, name="Choose your school")).to_be_visible()
    choice = leader.get_by_role("group", name="Which of these is your school?")
    await expect(choice.get_by_role("radio")).to_have_count(2)
    await expect(choice.get_by_label("Hill Top Primary")).to_be_visible()
    await assert_accessible(leader)
    await choice.get_by_label("Demo Primary School").check()
    await leader.get_by_role("button", name="Check my school's rows").click()
    await expect(
        leader.get_by_role("heading", level=2, name="Check before importing")
    ).to_be_visible()


async def test_a_whole_school_file_shows_who_would_leave_and_cancel_changes_nothing(
    embedded: str, browser: Browser
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Import pupils")
    await upload(leader, whole_school=True)
    await choose_demo_school(leader)

    # the demo school has nine pupils and four staff; the file names two pupils and Ms Oak
    await expect(leader.locator(".import-summary")).to_have_text(
        "1 pupil would join, 1 would move class, 7 pupils and 2 staff would leave."
    )
    leaving = leader.get_by_role("group", name=re.compile(r"would be marked as left$"))
    await expect(leaving).to_be_visible()
    await expect(leaving.get_by_role("heading")).to_have_text(
        "7 pupils and 2 staff would be marked as left"
    )
    await expect(leaving.get_by_text("Isla Wood (isla)")).to_be_visible()
    await expect(leaving.get_by_text("Mrs Elm (staff-elm)")).to_be_visible()
    await expect(leaving.get_by_text(re.compile("Mr Ash"))).to_have_count(0)
    kept = leader.get_by_role("list").filter(has_text="Mr Ash")
    await expect(kept).to_be_visible()  # the leader doing the import is never removed by it
    await assert_accessible(leader)

    await leader.get_by_role("button", name="Cancel").click()
    await expect(leader.get_by_role("status")).to_have_text("Cancelled. Nothing was imported.")
    await expect(leader.get_by_role("heading", name="Check before importing")).to_have_count(0)

    # checked again: the same seven would leave, so the cancelled import changed nothing
    await upload(leader, whole_school=True)
    await choose_demo_school(leader)
    await expect(
        leader.get_by_role("heading", name="7 pupils and 2 staff would be marked as left")
    ).to_be_visible()


async def test_a_leader_imports_a_district_file_picking_their_school_then_confirming(
    embedded: str, browser: Browser
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Import pupils")
    # a partial import unless the leader says the file lists everyone
    await expect(leader.get_by_label(WHOLE_SCHOOL)).not_to_be_checked()
    await assert_accessible(leader)
    await upload(leader)
    await choose_demo_school(leader)

    summary = leader.locator(".import-summary")
    await expect(summary).to_have_text("1 pupil would join, 1 would move class.")
    await expect(leader.get_by_text("The file's school: Demo Primary School.")).to_be_visible()
    await expect(leader.get_by_text(re.compile(r"would be marked as left"))).to_have_count(0)
    await expect(
        leader.get_by_text(re.compile(r"^\d+ rows? of other schools ignored$"))
    ).to_be_visible()
    await expect(
        leader.get_by_text("1 guardian row: families join with invite letters")
    ).to_be_visible()
    warnings = leader.get_by_role("table", name="Warnings")
    await expect(warnings.get_by_role("row", name=re.compile(r"^classes\.csv 4 "))).to_be_visible()
    await assert_accessible(leader)

    await leader.get_by_role("button", name="Import these changes").click()
    await expect(leader.get_by_role("heading", level=2, name="Import finished")).to_be_visible()
    await expect(leader.get_by_text("1 pupil joined, 1 moved class.")).to_be_visible()
    pupils = leader.get_by_role("table", name="Pupils")
    await expect(pupils.get_by_role("row", name="Added 1")).to_be_visible()
    await expect(pupils.get_by_role("row", name="Moved class 1")).to_be_visible()
    await expect(pupils.get_by_role("row", name="Left 0")).to_be_visible()
    warnings = leader.get_by_role("table", name="Warnings")
    await expect(warnings.get_by_role("row", name=re.compile(r"^classes\.csv 4 "))).to_be_visible()
    await expect(leader.get_by_role("status")).to_have_text(
        "Import finished: 1 added, 1 moved, 0 left."
    )
    await assert_accessible(leader)


async def test_a_whole_school_file_of_another_school_is_refused_naming_its_school(
    embedded: str, browser: Browser
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Import pupils")
    await upload(leader, whole_school=True, without=DEMO)

    await expect(leader.get_by_role("heading", level=2, name="Choose your school")).to_be_visible()
    await expect(leader.get_by_role("alert")).to_have_text(
        "This file does not look like your school's, so nothing was imported."
    )
    # the file's school is named, whether the school's own id was recorded yet or not
    await expect(
        leader.get_by_text(re.compile(r"Hill Top Primary.*\. Nothing was imported\."))
    ).to_be_visible()
    choice = leader.get_by_role("group", name="Which of these is your school?")
    await expect(choice.get_by_role("radio")).to_have_count(1)
    await expect(choice.get_by_label("Hill Top Primary")).to_be_visible()
    await expect(leader.get_by_role("button", name="Import these changes")).to_have_count(0)
    await assert_accessible(leader)
