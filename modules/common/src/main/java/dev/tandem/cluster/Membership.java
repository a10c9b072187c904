package dev.tandem.cluster;

import java.util.List;
import java.util.Optional;

/** Who this node can reach, who leads, and whether this side holds a majority of the voters. */
public record Membership(List<Member> members, String leader, boolean quorum) {

    public Optional<String> leaderName() {
        return Optional.ofNullable(leader);
    }

    public List<String> reachableNames() {
        return members.stream().filter(Member::reachable).map(Member::name).toList();
    }
}
