"""``coe import magnum``: turn Magnum's cluster templates, clusters and node groups into the
coe-provider spec, with a report that accounts for every field and label.

* :mod:`.documents` reads the JSON shapes of Magnum's API and CLI;
* :mod:`.live` fetches them from the Magnum API (``--cloud``) with openstacksdk;
* :mod:`.rules` is the mapping table (data, also rendered into the README by :mod:`.readme`);
* :mod:`.driverchoice` picks the driver as Magnum did (coe, server_type, distro);
* :mod:`.convert` applies the table and validates the result;
* :mod:`.report` holds the rows; :mod:`.output` writes YAML;
  :mod:`.command` is what the CLI runs.
"""
