package dev.tandem.component;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A plain-text table with columns as wide as their widest cell: how shell commands print lists. */
public final class Table {
    private final List<String[]> rows = new ArrayList<>();

    public Table(String... header) {
        rows.add(header);
    }

    /** Rows of named cells as a table: the first row's keys, upper-cased, are the header. */
    public static void print(List<Map<String, Object>> rows, PrintWriter out) {
        Table table = new Table(rows.get(0).keySet().stream().map(String::toUpperCase).toArray(String[]::new));
        for (Map<String, Object> row : rows) table.row(row.values().toArray());
        table.print(out);
    }

    public Table row(Object... cells) {
        String[] row = new String[cells.length];
        for (int i = 0; i < cells.length; i++) row[i] = cells[i] == null ? "-" : cells[i].toString();
        rows.add(row);
        return this;
    }

    public void print(PrintWriter out) {
        int columns = rows.get(0).length;
        int[] width = new int[columns];
        for (String[] row : rows) for (int i = 0; i < columns - 1; i++) width[i] = Math.max(width[i], row[i].length());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(i < columns - 1 ? String.format("%-" + (width[i] + 2) + "s", row[i]) : row[i]);
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
