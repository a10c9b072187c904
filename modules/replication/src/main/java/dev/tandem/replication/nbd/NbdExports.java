package dev.tandem.replication.nbd;

import java.util.List;
import java.util.Optional;

/** The exports a server offers right now; looked up at each handshake, so the set may change. */
public interface NbdExports {
    Optional<NbdExport> find(String name);

    List<String> names();
}
