"""The consultation page in headless Chromium (Selenium with Debian's chromium-driver),
against a real `pumpdx serve --insecure-dev`: a clinician fills a withdrawal case, sees the
prioritised assessment, answers the open questions in place, and re-assesses until
nothing is open."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .service_support import Server, serve
from .test_report_browser import FLAGS, install_chromium

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("page"), "--insecure-dev") as s:
        yield s


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = install_chromium()
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromedriver is missing (Debian's chromium-driver: scripts/setup.sh --test)")
    options = Options()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    options.add_argument("--window-size=1400,1000")
    driver = webdriver.Chrome(service=DriverService(executable_path=driver_path),
                              options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_assessed(driver: Any, before: str) -> str:
    def changed(d: Any) -> str | bool:
        text: str = d.find_element(By.ID, "status").text
        return text if text.startswith("Assessed") and text != before else False

    result: str = WebDriverWait(driver, 60).until(changed)
    return result


def _texts(driver: Any, kind: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f"#kind-{kind} .text")]


def _needs(driver: Any) -> list[str]:
    return [e.get_attribute("data-needs")
            for e in driver.find_elements(By.CSS_SELECTOR, "#questions .question")]


def _answer(driver: Any, needs: str, value: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, f'.question[data-needs="{needs}"] input')
    field.send_keys(value)


def test_a_withdrawal_consultation_until_nothing_is_open(server: Server, browser: Any) -> None:
    d = browser
    d.get(server.url + "/")
    assert d.title == "PumpDx consultation"
    steps = [e.text for e in d.find_elements(By.CSS_SELECTOR, "section.step h2")]
    assert steps[0].startswith("Step 1") and steps[1].startswith("Step 2")
    # every control has a label (keyboard and screen-reader use)
    for control in d.find_elements(By.CSS_SELECTOR, "#case-form select, #case-form input"):
        cid = control.get_attribute("id")
        assert d.find_elements(By.CSS_SELECTOR, f'label[for="{cid}"]') or \
            control.find_elements(By.XPATH, "ancestor::label"), cid

    # Step 1: withdrawal with diaphoresis and agitation
    for box in ("f-presentation-problems-withdrawal", "f-presentation-signs-diaphoresis",
                "f-presentation-signs-agitation"):
        d.find_element(By.ID, box).send_keys(Keys.SPACE)  # keyboard, not the mouse
    # Step 2: a SynchroMed II pump with intrathecal morphine
    Select(d.find_element(By.ID, "f-pump-model")).select_by_value("synchromed_ii")
    d.find_element(By.CSS_SELECTOR, 'button[data-add="drugs"]').send_keys(Keys.ENTER)
    agent = d.switch_to.active_element  # the new entry's first field has the focus
    assert agent.get_attribute("data-path").endswith(".agent")
    Select(agent).select_by_value("morphine")
    # Step 3: the reservoir is empty
    d.find_element(By.ID, "f-reservoir-measured_volume_ml").send_keys("0")
    d.find_element(By.ID, "assess").send_keys(Keys.ENTER)
    status = _wait_assessed(d, "")

    urgent = _texts(d, "urgent_action")
    assert any("give opioid systemically" in t for t in urgent)
    assert any("Refill the reservoir to restore therapy" in t
               for t in _texts(d, "recommendation"))
    assert d.switch_to.active_element.get_attribute("id") == "results"
    first = _needs(d)
    assert "reservoir.expected_volume_ml" in first
    assert "drugs[].concentration_mg_per_ml" in first

    # answer two questions in place and re-assess with the keyboard
    _answer(d, "reservoir.expected_volume_ml", "10")
    _answer(d, "drugs[].concentration_mg_per_ml", "25")
    d.find_element(By.CSS_SELECTOR, '.question[data-needs="drugs[].concentration_mg_per_ml"] '
                                    'input').send_keys(Keys.ENTER)
    status = _wait_assessed(d, status)
    second = _needs(d)
    assert "reservoir.expected_volume_ml" not in second
    assert "drugs[].concentration_mg_per_ml" not in second
    assert d.find_element(By.ID, "f-reservoir-expected_volume_ml").get_attribute("value") == "10"
    # the answers kept the treatment: systemic opioid and refill are still shown
    assert any("give opioid systemically" in t for t in _texts(d, "urgent_action"))
    assert any("Refill the reservoir" in t for t in _texts(d, "recommendation"))

    # the new question (reservoir capacity) and the rest, until nothing is open
    assert "pump.reservoir_ml" in second
    _answer(d, "pump.reservoir_ml", "20")
    Select(d.find_element(By.ID, "f-presentation-external_exposures_asked")
           ).select_by_value("true")
    d.find_element(By.CSS_SELECTOR, '.question[data-needs="interrogation"] button.goto'
                   ).send_keys(Keys.ENTER)
    performed = d.switch_to.active_element
    assert performed.get_attribute("data-path") == "interrogation.performed"
    Select(performed).select_by_value("true")
    d.find_element(By.ID, "reassess").send_keys(Keys.ENTER)
    status = _wait_assessed(d, status)
    # with the pump interrogated, the algorithm asks what the interrogation showed
    assert _needs(d) == ["interrogation.motor_stall"]
    Select(d.find_element(By.CSS_SELECTOR, '.question[data-needs="interrogation.motor_stall"] '
                                           'select')).select_by_value("none")
    d.find_element(By.ID, "reassess").send_keys(Keys.ENTER)
    status = _wait_assessed(d, status)
    assert _needs(d) == [] and "Nothing is open" in status
    assert not d.find_element(By.ID, "answers").is_displayed()
    assert any("give opioid systemically" in t for t in _texts(d, "urgent_action"))

    # nothing was fetched but the service's own /assess
    names = d.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) {return e.name;})")
    assert names and all(n.startswith(server.url + "/assess") for n in names), names


def test_a_bad_entry_is_named_and_focused(server: Server, browser: Any) -> None:
    d = browser
    d.get(server.url + "/")
    d.find_element(By.ID, "f-presentation-problems-withdrawal").send_keys(Keys.SPACE)
    d.find_element(By.ID, "assess").send_keys(Keys.ENTER)  # no pump: the case is refused
    WebDriverWait(d, 60).until(lambda x: x.find_element(By.ID, "error").text)
    assert "pump" in d.find_element(By.ID, "error").text
    assert d.find_element(By.ID, "status").text == "Not assessed."
