package dev.tandem.dns.health;

/**
 * One checker's view of one member, with fall/rise hysteresis: down after {@code fall} failures in a
 * row, up after {@code rise} successes in a row. The first result decides at once, so a node that
 * just started has an opinion after one check rather than after several.
 */
final class MemberHealth {
    enum State {
        UNKNOWN,
        UP,
        DOWN
    }

    private State state = State.UNKNOWN;
    private int streak;
    private String lastProblem;

    /** Records one result; returns true if the state changed. */
    synchronized boolean record(String problem, int fall, int rise) {
        boolean passed = problem == null;
        if (!passed) lastProblem = problem;
        State before = state;
        if (state == State.UNKNOWN) {
            state = passed ? State.UP : State.DOWN;
            streak = 0;
        } else if ((state == State.UP) == passed) {
            streak = 0;
        } else if (++streak >= (passed ? rise : fall)) {
            state = passed ? State.UP : State.DOWN;
            streak = 0;
        }
        return state != before;
    }

    synchronized State state() {
        return state;
    }

    /** What this checker publishes: {@code up}, or {@code down: why}. */
    synchronized String published() {
        return switch (state) {
            case UP -> "up";
            case DOWN -> "down: " + lastProblem;
            case UNKNOWN -> null;
        };
    }
}
