"""/products and /products/builds on PostgreSQL."""
from crashgate.external.postgresql.backend import PostgreSQLImplementation

PRODUCTS_SQL = """
    SELECT product_name, sort, rapid_release_version, release_name
      FROM products ORDER BY sort, product_name
"""

PRODUCT_VERSIONS_SQL = """
    SELECT pi.product_name AS product, pi.version_string AS version, pi.start_date, pi.end_date,
           pi.is_featured, pi.build_type, pi.throttle::float AS throttle
      FROM product_info pi
      JOIN unnest(%(products)s::text[], %(versions)s::text[]) AS wanted (product, version)
        ON lower(pi.product_name) = lower(wanted.product) AND pi.version_string = wanted.version
     ORDER BY pi.product_name, pi.version_sort, pi.version_string
"""

BUILDS_SQL = """
    SELECT product_name AS product, version, platform, build_id AS buildid, build_type,
           beta_number, repository, build_date AS date
      FROM releases_raw
     WHERE lower(product_name) = lower(%(product)s)
       AND (%(version)s::text IS NULL OR version = %(version)s)
       AND build_date >= %(from_date)s::date
     ORDER BY build_date DESC, product_name, version, platform, build_id DESC
"""

INSERT_BUILD_SQL = """
    INSERT INTO releases_raw
           (product_name, version, platform, build_id, build_type, beta_number, repository)
    VALUES (%(product)s, %(version)s, %(platform)s, %(build_id)s, %(build_type)s,
            %(beta_number)s, %(repository)s)
    ON CONFLICT DO NOTHING
"""


class Products(PostgreSQLImplementation):
    def get(self, versions):
        if not versions:
            hits = self.pool.fetch_all(PRODUCTS_SQL)
        else:
            hits = self.pool.fetch_all(PRODUCT_VERSIONS_SQL, {
                "products": [p for p, _ in versions], "versions": [v for _, v in versions]})
        return {"hits": hits, "total": len(hits)}


class ProductsBuilds(PostgreSQLImplementation):
    def get(self, product, version, from_date):
        return self.pool.fetch_all(BUILDS_SQL, {"product": product, "version": version,
                                                "from_date": from_date})

    def post(self, product, version, platform, build_id, build_type, beta_number, repository):
        """Record a build; True when it is new, False when it was already there."""
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(INSERT_BUILD_SQL, {
                "product": product, "version": version, "platform": platform,
                "build_id": int(build_id), "build_type": build_type,
                "beta_number": beta_number, "repository": repository})
            return cur.rowcount == 1
