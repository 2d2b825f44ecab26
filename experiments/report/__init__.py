"""Reports: the citable brief of a batch (:mod:`.brief`), the shared figure style and
export (:mod:`.figures`), provenance and results-folder reading/writing
(:mod:`.provenance`) and the parameter table (:mod:`.params`)."""
