package dev.tandem.shell;

import dev.tandem.config.User;
import java.util.Optional;

/** The users of the running (replicated) configuration; read at every login, so a new key works at once. */
public interface UserDirectory {
    Optional<User> user(String name);
}
