"""Where outbound messages may go: link-local and metadata addresses never, private ones only when allowed."""

import pytest

from cdp.activation.addresses import RefusedAddress, check_url, resolve


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:8080/", "http://[::ffff:169.254.169.254]/", "http://100.100.100.200/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/computeMetadata/v1/", "http://0.0.0.0/"])
def test_link_local_and_metadata_addresses_are_refused_even_when_private_ones_are_allowed(url):
    with pytest.raises(RefusedAddress, match=r"^settings\.url: .*(link-local|metadata)"):
        check_url(url, allow_private=True, field="settings.url")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.1.2.3/", "http://192.168.0.10/", "http://[::1]/", "http://[fc00::5]/"])
def test_loopback_and_private_addresses_need_allow_private(url):
    with pytest.raises(RefusedAddress, match="loopback or private"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize(("url", "why"), [("ftp://example.com/", "scheme"), ("file:///etc/passwd", "scheme"), ("http://user:pw@example.com/", "credentials"), ("http:///path", "no host"), ("http://example.com:99999/", "not a URL")])
def test_malformed_urls_are_refused_naming_the_field(url, why):
    with pytest.raises(RefusedAddress, match=f"^url: .*{why}"):
        check_url(url, allow_private=True)


def test_a_name_is_checked_by_what_it_resolves_to_and_pinned_to_that_address():
    with pytest.raises(RefusedAddress, match="127.0.0.1 is a loopback"):
        resolve("http://localhost:8080/hook?x=1", allow_private=False)
    target = resolve("http://localhost:8080/hook?x=1", allow_private=True)
    assert (target.host, target.port, target.path) == ("localhost", 8080, "/hook?x=1")
    assert target.pinned_url() in ("http://127.0.0.1:8080/hook?x=1", "http://[::1]:8080/hook?x=1")
