package dev.tandem.store;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ConfigDiff;
import dev.tandem.config.InvalidConfigException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * {@link NodeStore} in an embedded H2 database under the node's data directory. Versions are kept
 * as whole JSON documents keyed by their number, so replaying the raft log writes nothing twice.
 */
public final class H2NodeStore implements NodeStore, AutoCloseable {
    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS config_version (
                version      BIGINT PRIMARY KEY,
                document     CLOB NOT NULL,
                author       VARCHAR(200) NOT NULL,
                origin       VARCHAR(200) NOT NULL,
                committed_at TIMESTAMP WITH TIME ZONE NOT NULL,
                comment      VARCHAR(2000));
            CREATE TABLE IF NOT EXISTS audit (
                id      BIGINT AUTO_INCREMENT PRIMARY KEY,
                at      TIMESTAMP WITH TIME ZONE NOT NULL,
                who     VARCHAR(200) NOT NULL,
                origin  VARCHAR(200) NOT NULL,
                action  VARCHAR(200) NOT NULL,
                detail  CLOB);
            CREATE TABLE IF NOT EXISTS local_state (
                name  VARCHAR(200) PRIMARY KEY,
                val  CLOB NOT NULL);
            """;

    private final JdbcConnectionPool pool;

    private H2NodeStore(JdbcConnectionPool pool) {
        this.pool = pool;
    }

    /** Opens (creating if needed) the store in {@code directory}. */
    public static H2NodeStore open(Path directory) {
        // FILE_LOCK=FS refuses a second process on the same data directory, which would split the node's history
        String url = "jdbc:h2:file:" + directory.toAbsolutePath().resolve("tandem") + ";FILE_LOCK=FS;DB_CLOSE_ON_EXIT=FALSE";
        H2NodeStore store = new H2NodeStore(JdbcConnectionPool.create(url, "tandem", ""));
        store.run(c -> {
            try (Statement s = c.createStatement()) {
                s.execute(SCHEMA);
            }
            return null;
        });
        return store;
    }

    @Override
    public boolean recordVersion(ConfigVersion v) {
        return run(c -> {
            c.setAutoCommit(false);
            try {
                if (exists(c, v.version())) {
                    c.rollback();
                    return false;
                }
                try (PreparedStatement insert = c.prepareStatement(
                        "INSERT INTO config_version (version, document, author, origin, committed_at, comment) VALUES (?,?,?,?,?,?)")) {
                    insert.setLong(1, v.version());
                    insert.setString(2, ConfigCodec.toJson(v.config()));
                    insert.setString(3, v.author());
                    insert.setString(4, v.origin());
                    insert.setTimestamp(5, Timestamp.from(v.committedAt()));
                    insert.setString(6, v.comment());
                    insert.executeUpdate();
                }
                insertAudit(c, new AuditEntry(v.committedAt(), v.author(), v.origin(), "config.commit",
                        "version " + v.version() + (v.comment() == null ? "" : " (" + v.comment() + ")") + ", "
                                + changesFrom(v.version() - 1, v)));
                c.commit();
                return true;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    /** The diff summary against the previous version, for the audit row. */
    private String changesFrom(long previous, ConfigVersion v) {
        return version(previous).map(p -> ConfigDiff.summary(p.config(), v.config(), 400)).orElse("first version recorded here");
    }

    private static boolean exists(Connection c, long version) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM config_version WHERE version = ?")) {
            q.setLong(1, version);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next();
            }
        }
    }

    @Override
    public Optional<ConfigVersion> latestVersion() {
        return history(1).stream().findFirst();
    }

    @Override
    public Optional<ConfigVersion> version(long number) {
        return queryVersions("SELECT * FROM config_version WHERE version = ?", number).stream().findFirst();
    }

    @Override
    public List<ConfigVersion> history(int limit) {
        return queryVersions("SELECT * FROM config_version ORDER BY version DESC LIMIT ?", limit);
    }

    private List<ConfigVersion> queryVersions(String sql, long parameter) {
        return run(c -> {
            List<ConfigVersion> result = new ArrayList<>();
            try (PreparedStatement q = c.prepareStatement(sql)) {
                q.setLong(1, parameter);
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        result.add(new ConfigVersion(
                                rs.getLong("version"),
                                parseStored(rs.getLong("version"), rs.getString("document")),
                                rs.getString("author"),
                                rs.getString("origin"),
                                rs.getTimestamp("committed_at").toInstant(),
                                rs.getString("comment")));
                    }
                }
            }
            return result;
        });
    }

    private static dev.tandem.config.ClusterConfig parseStored(long version, String json) {
        try {
            return ConfigCodec.readJson(json);
        } catch (InvalidConfigException e) {
            throw new IllegalStateException("stored config version " + version + " cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public void audit(AuditEntry entry) {
        run(c -> {
            insertAudit(c, entry);
            return null;
        });
    }

    private static void insertAudit(Connection c, AuditEntry e) throws SQLException {
        try (PreparedStatement insert =
                c.prepareStatement("INSERT INTO audit (at, who, origin, action, detail) VALUES (?,?,?,?,?)")) {
            insert.setTimestamp(1, Timestamp.from(e.at()));
            insert.setString(2, e.who());
            insert.setString(3, e.origin());
            insert.setString(4, e.action());
            insert.setString(5, e.detail());
            insert.executeUpdate();
        }
    }

    @Override
    public List<AuditEntry> auditLog(int limit) {
        return run(c -> {
            List<AuditEntry> result = new ArrayList<>();
            try (PreparedStatement q = c.prepareStatement("SELECT * FROM audit ORDER BY id DESC LIMIT ?")) {
                q.setInt(1, limit);
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        result.add(new AuditEntry(rs.getTimestamp("at").toInstant(), rs.getString("who"),
                                rs.getString("origin"), rs.getString("action"), rs.getString("detail")));
                    }
                }
            }
            return result;
        });
    }

    @Override
    public Optional<String> local(String key) {
        return run(c -> {
            try (PreparedStatement q = c.prepareStatement("SELECT val FROM local_state WHERE name = ?")) {
                q.setString(1, key);
                try (ResultSet rs = q.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        });
    }

    @Override
    public void putLocal(String key, String value) {
        run(c -> {
            try (PreparedStatement merge = c.prepareStatement("MERGE INTO local_state (name, val) KEY (name) VALUES (?, ?)")) {
                merge.setString(1, key);
                merge.setString(2, value);
                merge.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public void close() {
        pool.dispose();
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T run(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** The local database failed: the disk is full or the files are damaged. Not something to retry blindly. */
    public static final class StoreException extends RuntimeException {
        StoreException(SQLException cause) {
            super("local store: " + cause.getMessage(), cause);
        }
    }
}
