"""Calls the backend on 127.0.0.1 from a page Chromium counts as public, as the Stripe Dashboard is, for
LocalNetworkBrowserTests.swift.

Usage: local_network_flow.py PAGE_URL PAGE_PORT
The page (served on 127.0.0.1:PAGE_PORT, made public with --ip-address-space-overrides) has a sandboxed iframe
(origin null) whose script calls the backend and writes what it saw into #results. It is loaded twice, each time in
a fresh browser: once as a user who has not allowed Local Network Access (headless Chromium denies the prompt),
once after the permission was granted (`loopbackNetwork`, what allowing the prompt gives). Prints one JSON object:
{"denied": <results>, "granted": <results>}, or {"error": …}.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

page_url, page_port = sys.argv[1:3]
origin = "http://127.0.0.1:" + page_port


def run(grant):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # The page's address counts as public: its calls to 127.0.0.1 cross into the loopback address space.
        "--ip-address-space-overrides=127.0.0.1:%s=public" % page_port,
    ]:
        options.add_argument(argument)
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        if grant:
            driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["loopbackNetwork"], "origin": origin})
        driver.get(page_url)
        results = WebDriverWait(driver, 60, poll_frequency=0.2).until(
            lambda d: (lambda text: text if text != "pending" else False)(d.find_element(By.ID, "results").text)
        )
        return json.loads(results)
    finally:
        driver.quit()


try:
    print(json.dumps({"denied": run(False), "granted": run(True)}))
except Exception as error:  # reported to the Swift test, which fails with it
    print(json.dumps({"error": "%s: %s" % (type(error).__name__, error)}))
