import sys

from crashgate.external.elasticsearch.node import main

sys.exit(main())
