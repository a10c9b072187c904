package dev.tandem.shell;

import dev.tandem.config.User;

/** An authenticated shell user: who, with which role, connected from where. */
public record ShellUser(String name, User.Level role, String from) {
    public boolean isAdmin() {
        return role == User.Level.ADMIN;
    }
}
