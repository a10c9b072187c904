package dev.tandem.shell.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line into commands (at {@code ;}) and words (at blanks), honouring "double" and
 * 'single' quotes and backslash escapes, as an operator pasting {@code set} lines expects.
 */
final class Tokenizer {
    /** Longer lines are refused outright: nothing in the language needs them, and a pasted blob is a mistake. */
    static final int MAX_LINE = 64 * 1024;

    private Tokenizer() {}

    static List<List<String>> commands(String line) throws CliException {
        if (line.length() > MAX_LINE) {
            throw new CliException("line too long (" + line.length() + " characters; at most " + MAX_LINE + ")");
        }
        List<List<String>> commands = new ArrayList<>();
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                if (word == null) word = new StringBuilder();
            } else if (c == '\\' && i + 1 < line.length()) {
                if (word == null) word = new StringBuilder();
                word.append(line.charAt(++i));
            } else if (Character.isWhitespace(c) || c == ';') {
                if (word != null) words.add(word.toString());
                word = null;
                if (c == ';' && !words.isEmpty()) {
                    commands.add(words);
                    words = new ArrayList<>();
                }
            } else {
                if (word == null) word = new StringBuilder();
                word.append(c);
            }
        }
        if (quote != 0) throw new CliException("unclosed " + quote + " quote");
        if (word != null) words.add(word.toString());
        if (!words.isEmpty()) commands.add(words);
        return commands;
    }
}
