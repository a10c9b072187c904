package dev.tandem.health;

/**
 * One checker's view of one member, with fall/rise hysteresis: down after {@code fall} failures in a
 * row, up after {@code rise} successes in a row. The first result decides at once, so a node that
 * just started has an opinion after one check rather than after several.
 */
public final class MemberHealth {
    public enum State {
        UNKNOWN,
        UP,
        DOWN
    }

    private State state = State.UNKNOWN;
    private int streak;
    private String lastProblem;

    /** Records one result; returns true if the state changed. */
    public synchronized boolean record(String problem, int fall, int rise) {
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

    /** Back to no opinion, as before the first check. */
    public synchronized void reset() {
        state = State.UNKNOWN;
        streak = 0;
        lastProblem = null;
    }

    public synchronized State state() {
        return state;
    }

    /** What this checker publishes: {@code up}, or {@code down: why}. */
    public synchronized String published() {
        return switch (state) {
            case UP -> "up";
            case DOWN -> "down: " + lastProblem;
            case UNKNOWN -> null;
        };
    }
}
