package dev.tandem.replication.nbd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A fixed set of exports. */
final class TestExports implements NbdExports {
    private final Map<String, NbdExport> byName = new LinkedHashMap<>();

    static TestExports of(NbdExport... exports) {
        TestExports result = new TestExports();
        for (NbdExport export : exports) {
            result.byName.put(export.name(), export);
        }
        return result;
    }

    @Override
    public Optional<NbdExport> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }
}
