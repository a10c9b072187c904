package dev.tandem.shell.cli;

import java.util.ArrayList;
import java.util.List;

/** Output options that may stand anywhere in a command ({@code --json}, {@code --yaml}, {@code --set}), and the other words. */
record Flags(List<String> words, boolean json, boolean set) {
    static Flags of(List<String> words) {
        List<String> rest = new ArrayList<>();
        boolean json = false;
        boolean set = false;
        for (String w : words) {
            switch (w) {
                case "--json" -> json = true;
                case "--yaml" -> {} // the default
                case "--set" -> set = true;
                default -> rest.add(w);
            }
        }
        return new Flags(rest, json, set);
    }
}
