"""Drives the admin page in headless Chromium through Selenium, for AdminBrowserTests.swift.

Usage: admin_flow.py BASE_URL REPLAY_EVENT_ID REFUSED_EVENT_ID ARTIFACTS_DIR TENANT_PAGE_PATH
Tokens come from ADMIN_TOKEN and ADMIN_READONLY_TOKEN in the environment (never from argv).
Prints one JSON object of what each step saw; the Swift test asserts on it and on storage.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, replay_id, refused_id, artifacts, tenant_page = sys.argv[1:6]
admin_token = os.environ["ADMIN_TOKEN"]
readonly_token = os.environ["ADMIN_READONLY_TOKEN"]
os.makedirs(artifacts, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for argument in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
# A check that reads the page while the browser replaces it (a redirect, a form's answer) finds the old element gone:
# try again at the next poll, as for an element not there yet.
wait = WebDriverWait(
    driver, 30, poll_frequency=0.25, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException])
results = {}


def shot(name):
    driver.save_screenshot(os.path.join(artifacts, name + ".png"))


def code():
    """The page's stable outcome code (`data-code` of the body). Read in one script, not through an element handle:
    while a click replaces the page, a handle to the old body fails with "Node with given id does not belong to the
    document", an error the waits do not ignore."""
    return driver.execute_script("return document.body ? document.body.getAttribute('data-code') : null;")


def log_in(token):
    driver.get(base + "/admin")
    wait.until(EC.presence_of_element_located((By.ID, "token")))
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
    wait.until(lambda d: code() == "overview")


def open_event(event_id):
    driver.get(base + "/admin/inbox?status=dead")
    wait.until(lambda d: code() == "inbox")
    link = wait.until(EC.element_to_be_clickable((By.LINK_TEXT, event_id)))
    link.click()
    wait.until(lambda d: d.find_element(By.ID, "event-id").text == event_id)


def post_from_page(path):
    """Submits a form as the replay button would, with this page's CSRF token (for a read-only session, which has
    no replay button to click)."""
    driver.execute_script(
        """
        const form = document.createElement("form");
        form.method = "post"; form.action = arguments[0];
        const csrf = document.createElement("input");
        csrf.type = "hidden"; csrf.name = "csrf"; csrf.value = document.querySelector("input[name=csrf]").value;
        form.appendChild(csrf); document.body.appendChild(form); form.submit();
        """,
        path,
    )


try:
    # Without a session: the page sends the browser to the login form.
    driver.get(base + "/admin/events/" + refused_id)
    wait.until(lambda d: code() == "login")
    results["anonymous_page"] = code()
    shot("01-anonymous-redirected-to-login")

    # A read-only session sees the dead event, has no replay button, and its replay is refused.
    log_in(readonly_token)
    results["readonly_who"] = driver.find_element(By.ID, "who").text
    open_event(refused_id)
    results["readonly_replay_buttons"] = len(driver.find_elements(By.ID, "replay"))
    shot("02-readonly-event")
    post_from_page("/admin/events/" + refused_id + "/replay")
    wait.until(lambda d: code() == "read_only_session")
    results["readonly_replay"] = code()
    shot("03-readonly-replay-refused")
    driver.get(base + "/admin")
    driver.find_element(By.ID, "logout").click()
    wait.until(lambda d: code() == "login")

    # A full session: log in through the form, find the dead event, replay it, see it succeed.
    log_in(admin_token)
    results["admin_who"] = driver.find_element(By.ID, "who").text
    shot("04-admin-overview")
    open_event(replay_id)
    results["before_replay"] = driver.find_element(By.ID, "status").text
    shot("05-admin-dead-event")
    driver.find_element(By.ID, "replay").click()
    wait.until(EC.presence_of_element_located((By.ID, "notice")))
    results["notice"] = driver.find_element(By.ID, "notice").text

    def succeeded(d):
        d.refresh()
        return d.find_element(By.ID, "status").text == "succeeded"

    wait.until(succeeded)
    results["after_replay"] = driver.find_element(By.ID, "status").text
    shot("06-admin-event-succeeded")

    # The same click once the session is gone (cookie dropped, as after a logout elsewhere) is refused.
    open_event(refused_id)
    driver.delete_all_cookies()
    driver.find_element(By.ID, "replay").click()
    wait.until(lambda d: code() == "session_required")
    results["sessionless_replay"] = code()
    shot("07-sessionless-replay-refused")

    # Block the tenant from its page, with a reason: the page then says so and offers to unblock.
    log_in(admin_token)
    driver.get(base + tenant_page)
    wait.until(lambda d: code() == "tenant")
    results["before_block"] = driver.find_element(By.ID, "blocked").text
    driver.find_element(By.ID, "block-reason").send_keys("chargebacks from the browser")
    driver.find_element(By.ID, "block").click()
    wait.until(EC.presence_of_element_located((By.ID, "notice")))
    results["block_notice"] = driver.find_element(By.ID, "notice").text
    results["after_block"] = driver.find_element(By.ID, "blocked").text
    results["unblock_buttons"] = len(driver.find_elements(By.ID, "unblock"))
    shot("08-admin-tenant-blocked")

    # Log out: the next page asks to log in again.
    driver.find_element(By.ID, "logout").click()
    wait.until(lambda d: code() == "login")
    driver.get(base + "/admin/inbox")
    wait.until(lambda d: code() == "login")
    results["after_logout"] = code()
    shot("09-logged-out")
except Exception as error:  # report what was reached, with a screenshot of where it stopped
    results["error"] = "%s: %s" % (type(error).__name__, str(error).splitlines()[0] if str(error) else "")
    results["stopped_at"] = driver.current_url
    shot("99-failure")
finally:
    driver.quit()

print(json.dumps(results))
