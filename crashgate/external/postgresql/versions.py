"""Product:Version lookups shared by every service that takes ``versions``."""
import psycopg2.extras

VERSIONS_INFO_SQL = """
    SELECT pv.product_name, pv.version_string, pv.major_version, pv.build_type,
           array_remove(array_agg(DISTINCT pvb.build_id ORDER BY pvb.build_id), NULL) AS build_ids
      FROM product_versions pv
      JOIN unnest(%(products)s::text[], %(versions)s::text[]) AS wanted (product, version)
        ON lower(pv.product_name) = lower(wanted.product) AND pv.version_string = wanted.version
      LEFT JOIN product_version_builds pvb USING (product_version_id)
     GROUP BY pv.product_version_id
     ORDER BY pv.product_name, pv.version_sort, pv.version_string
"""


def versions_info(cursor, pairs):
    """{'Product:Version': info} for the known pairs among ``pairs`` [(product, version)]."""
    cursor.execute(VERSIONS_INFO_SQL, {"products": [p for p, _ in pairs],
                                       "versions": [v for _, v in pairs]})
    info = {}
    for product, version, major, build_type, build_ids in cursor.fetchall():
        info[f"{product}:{version}"] = {
            "product_name": product,
            "version_string": version,
            "major_version": major,
            "release_channel": build_type,
            "build_id": [int(b) for b in build_ids],
        }
    return info


def dict_cursor(conn):
    return conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
