"""/products, /products/builds and /util/versions_info over WSGI round trips on PostgreSQL."""
import datetime

import pytest

UTC = datetime.timezone.utc


@pytest.fixture
def catalogue(db):
    cur = db.cursor()
    cur.execute("""
        INSERT INTO products VALUES ('Firefox', 1, '5.0', 'firefox'), ('Fennec', 3, '5.0', 'mobile'),
                                    ('Thunderbird', 2, '6.0', 'thunderbird');
        INSERT INTO product_versions (product_name, version_string, major_version, release_version,
               beta_number, version_sort, build_date, sunset_date, featured_version, build_type, throttle)
        VALUES ('Firefox', '8.0', '8.0', '8.0', NULL, '008', '2011-11-08', '2012-02-08', false, 'Release', 10),
               ('Firefox', '11.0.1', '11.0', '11.0.1', NULL, '011', '2012-03-13', '2012-06-13', true, 'Release', 20),
               ('Thunderbird', '10.0.2b', '10.0', '10.0.2', 2, '010', '2012-02-01', '2012-05-01', false, 'Beta', 30),
               ('Fennec', '12.0b1', '12.0', '12.0', 1, '012', '2012-04-01', '2012-07-01', true, 'Beta', 100);
        INSERT INTO product_version_builds
             SELECT product_version_id, b, 'windows', 'mozilla-beta' FROM product_versions,
                    (VALUES (20120401010101), (20120402010101)) AS builds(b)
              WHERE version_string = '12.0b1';
    """)
    return db


def test_products_without_parameters_lists_products(client, catalogue):
    response = client.get("/products/")
    assert response.status == 200
    assert response.json == {"total": 3, "hits": [
        {"product_name": "Firefox", "sort": 1, "rapid_release_version": "5.0", "release_name": "firefox"},
        {"product_name": "Thunderbird", "sort": 2, "rapid_release_version": "6.0", "release_name": "thunderbird"},
        {"product_name": "Fennec", "sort": 3, "rapid_release_version": "5.0", "release_name": "mobile"}]}


def test_products_with_versions(client, catalogue):
    one = client.get("/products/versions/Firefox:8.0/").json
    assert one == {"total": 1, "hits": [{
        "product": "Firefox", "version": "8.0", "start_date": "2011-11-08",
        "end_date": "2012-02-08", "is_featured": False, "build_type": "Release", "throttle": 10.0}]}
    two = client.get("/products/versions/Firefox:11.0.1+Thunderbird:10.0.2b/").json
    assert [(h["product"], h["version"], h["throttle"]) for h in two["hits"]] == [
        ("Firefox", "11.0.1", 20.0), ("Thunderbird", "10.0.2b", 30.0)]
    query = client.get("/products/?versions=Firefox:11.0.1&versions=Thunderbird:10.0.2b").json
    assert query == two
    assert client.get("/products/versions/Firefox:14.0/").json == {"hits": [], "total": 0}


def test_products_bad_versions_is_400(client, catalogue):
    response = client.get("/products/versions/Firefox/")
    assert response.status == 400
    assert response.json["error"]["parameter"] == "versions"
    assert response.json["error"]["received"] == "Firefox"


def test_versions_info(client, catalogue):
    info = client.get("/util/versions_info/versions/Fennec:12.0b1/").json
    assert info == {"Fennec:12.0b1": {
        "product_name": "Fennec", "version_string": "12.0b1", "major_version": "12.0",
        "release_channel": "Beta", "build_id": [20120401010101, 20120402010101]}}
    assert client.get("/util/versions_info/versions/Firefox:9.0a1+Fennec:7.0/").json == {}
    assert client.get("/util/versions_info/").json is None
    assert client.get("/util/versions_info/versions//").json is None
    assert client.get("/util/versions_info/versions/Firefox/").status == 400


BUILD = {"version": "20.0", "build_id": "20120417012345", "build_type": "Release",
         "platform": "macosx", "repository": "mozilla-central"}


def test_post_build_inserts_once_and_answers_303(client, db):
    response = client.post("/products/builds/product/Firefox/", BUILD)
    assert response.status == 303
    assert response.headers["Location"] == \
        "http://localhost/products/builds/product/Firefox/version/20.0/"
    assert response.json["created"] is True
    again = client.post("/products/builds/product/Firefox/", BUILD)
    assert again.status == 303 and again.json["created"] is False
    cur = db.cursor()
    cur.execute("SELECT product_name, version, platform, build_id, build_type, beta_number, "
                "repository, build_date FROM releases_raw")
    assert cur.fetchall() == [("Firefox", "20.0", "macosx", 20120417012345, "Release", None,
                               "mozilla-central", datetime.date(2012, 4, 17))]
    listed = client.get(response.headers["Location"] + "from_date/2012-01-01/")
    assert listed.json == [{"product": "Firefox", "version": "20.0", "platform": "macosx",
                            "buildid": 20120417012345, "build_type": "Release",
                            "beta_number": None, "repository": "mozilla-central",
                            "date": "2012-04-17"}]


def test_post_build_validation(client, db):
    for field in ("version", "build_id", "build_type", "platform"):
        data = {k: v for k, v in BUILD.items() if k != field}
        response = client.post("/products/builds/product/Firefox/", data)
        assert response.status == 400 and response.json["error"]["parameter"] == field
    beta = dict(BUILD, build_type="beta")
    response = client.post("/products/builds/product/Firefox/", beta)
    assert response.status == 400 and response.json["error"]["parameter"] == "beta_number"
    response = client.post("/products/builds/product/Firefox/", dict(beta, beta_number="2"))
    assert response.status == 303
    bad_id = client.post("/products/builds/product/Firefox/", dict(BUILD, build_id="2012"))
    assert bad_id.status == 400 and "YYYYMMDDhhmmss" in bad_id.json["error"]["expected"]
    no_repo = {k: v for k, v in BUILD.items() if k != "repository"}
    assert client.post("/products/builds/product/Fennec/", no_repo).status == 303
    cur = db.cursor()
    cur.execute("SELECT beta_number, repository FROM releases_raw ORDER BY product_name")
    assert cur.fetchall() == [(None, ""), (2, "mozilla-central")]


def test_get_builds_filters(client, db):
    for version, build_id in (("19.0", "20120101000000"), ("20.0", "20120417012345")):
        client.post("/products/builds/product/Firefox/", dict(BUILD, version=version, build_id=build_id))
    assert client.get("/products/builds/").status == 400
    assert client.get("/products/builds/product/Firefox/version/9.0a1/").json == []
    since = client.get("/products/builds/product/firefox/from_date/2012-02-01/").json
    assert [b["version"] for b in since] == ["20.0"]
    alias = client.get("/products/builds/product/Firefox/date_from/2011-12-01/").json
    assert [b["version"] for b in alias] == ["20.0", "19.0"]
    # default from_date is now - 7 days: these builds are older
    assert client.get("/products/builds/product/Firefox/").json == []
    assert client.get("/products/builds/product/Firefox/from_date/never/").status == 400


def test_heartbeat_and_version(client):
    beat = client.get("/__heartbeat__")
    assert beat.status == 200 and beat.json["backends"]["postgresql"]["status"] == "ok"
    assert beat.json["backends"]["postgresql"]["schema_version"] >= 1
    # Elasticsearch (unreachable here) only answers forced requests: degraded, not down
    assert beat.json["status"] == "degraded"
    assert beat.json["backends"]["elasticsearch"] == {
        "status": "error", "serves_by_default": False,
        "message": beat.json["backends"]["elasticsearch"]["message"]}
    assert "unavailable" in beat.json["backends"]["elasticsearch"]["message"]
    assert client.get("/__version__").json["name"] == "crashgate"
    assert client.get("/__lbheartbeat__").status == 200


def test_unknown_forced_backend_lists_the_implementing_ones(client):
    response = client.get("/products/force_api_impl/nope/")
    assert response.status == 400
    assert response.json["error"]["expected"] == ["postgresql"]
    assert "postgresql" in response.json["error"]["message"]
    assert client.get("/products/?_force_api_impl=postgresql").headers["X-Crashgate-Backend"] == "postgresql"
