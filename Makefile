# crashgate: `make run` serves sample data on the embedded PostgreSQL; `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: run test elasticsearch ini-dist clean

$(INSTALLED): setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(INSTALLED)

run: $(INSTALLED)
	$(VENV)/bin/crashgate serve $(ARGS)

test: $(INSTALLED)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# A real Elasticsearch node on 127.0.0.1:9200 (data in var/elasticsearch) until Ctrl-C; needs
# java, javac and mvn (the first run downloads it from Maven Central). Other port: ARGS="--port 9201"
elasticsearch: $(INSTALLED)
	$(VENV)/bin/crashgate elasticsearch --data-dir var/elasticsearch $(ARGS)

# Regenerate config/crashgate.ini-dist after adding or changing an option.
ini-dist: $(INSTALLED)
	env -i PATH="$$PATH" $(VENV)/bin/crashgate serve --admin.dump_conf=config/crashgate.ini-dist

clean:
	rm -rf $(VENV) var build *.egg-info
