//! The workspace actor's in-memory index of its open sockets: by socket id, by topic and by
//! workspace member. Generic over the socket handle so it is unit-tested natively.
//!
//! It is a cache of what workerd keeps for us (the accepted sockets and their attachments):
//! built from `get_websockets()` on first use after the actor wakes, then updated by
//! connect, subscribe, unsubscribe and close. With it, a committed change costs one lookup
//! plus one send per subscriber of its topic, instead of reading every socket's attachment,
//! and presence is a counter instead of a scan. That is what lets one workspace hold
//! [`super::realtime::MAX_SOCKETS_PER_ACTOR`] sockets.

use std::collections::{HashMap, HashSet};

use super::realtime::Attachment;

pub struct SocketIndex<S> {
    sockets: HashMap<String, (S, Attachment)>,
    /// topic → sids of the sockets following it. Sets are removed when they empty, so the
    /// map never holds more than the topics actually followed.
    topics: HashMap<String, HashSet<String>>,
    /// workspace member → open sockets (presence without a scan).
    members: HashMap<String, usize>,
}

impl<S> Default for SocketIndex<S> {
    fn default() -> Self {
        SocketIndex {
            sockets: HashMap::new(),
            topics: HashMap::new(),
            members: HashMap::new(),
        }
    }
}

impl<S> SocketIndex<S> {
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// Adds (or replaces) a socket. Returns the number of open sockets its member now has.
    pub fn insert(&mut self, socket: S, a: Attachment) -> usize {
        self.remove(&a.sid);
        for t in &a.topics {
            self.topics
                .entry(t.clone())
                .or_default()
                .insert(a.sid.clone());
        }
        let n = match &a.workspace_member_id {
            Some(m) => {
                let n = self.members.entry(m.clone()).or_insert(0);
                *n += 1;
                *n
            }
            None => 0,
        };
        self.sockets.insert(a.sid.clone(), (socket, a));
        n
    }

    /// Forgets a socket; `None` if it was not indexed (already removed).
    pub fn remove(&mut self, sid: &str) -> Option<(S, Attachment)> {
        let (socket, a) = self.sockets.remove(sid)?;
        for t in &a.topics {
            self.unlink(t, sid);
        }
        if let Some(m) = &a.workspace_member_id {
            if let Some(n) = self.members.get_mut(m) {
                *n -= 1;
                if *n == 0 {
                    self.members.remove(m);
                }
            }
        }
        Some((socket, a))
    }

    /// Replaces a socket's topics with the ones in `a` (after subscribe/unsubscribe).
    pub fn set_topics(&mut self, sid: &str, topics: &[String]) {
        let Some((_, a)) = self.sockets.get_mut(sid) else {
            return;
        };
        let old = std::mem::replace(&mut a.topics, topics.to_vec());
        for t in old.iter().filter(|t| !topics.contains(t)) {
            self.unlink(t, sid);
        }
        for t in topics {
            self.topics
                .entry(t.clone())
                .or_default()
                .insert(sid.to_string());
        }
    }

    fn unlink(&mut self, topic: &str, sid: &str) {
        if let Some(set) = self.topics.get_mut(topic) {
            set.remove(sid);
            if set.is_empty() {
                self.topics.remove(topic);
            }
        }
    }

    /// The sockets following `topic`.
    pub fn subscribers<'a>(&'a self, topic: &str) -> impl Iterator<Item = &'a (S, Attachment)> {
        self.topics
            .get(topic)
            .into_iter()
            .flatten()
            .filter_map(|sid| self.sockets.get(sid))
    }

    /// Open sockets of one workspace member.
    pub fn member_connections(&self, member_id: &str) -> usize {
        self.members.get(member_id).copied().unwrap_or(0)
    }

    /// The sockets of one workspace member (a scan: used when a member is removed).
    pub fn sockets_of_member<'a>(&'a self, member_id: &'a str) -> impl Iterator<Item = &'a S> {
        self.sockets
            .values()
            .filter(move |(_, a)| a.workspace_member_id.as_deref() == Some(member_id))
            .map(|(s, _)| s)
    }

    pub fn sockets_of_api_key<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a S> {
        self.sockets
            .values()
            .filter(move |(_, a)| a.api_key_id.as_deref() == Some(key))
            .map(|(s, _)| s)
    }

    pub fn attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.sockets.values().map(|(_, a)| a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(sid: &str, member: Option<&str>, topics: &[&str]) -> Attachment {
        Attachment {
            sid: sid.into(),
            workspace_id: "w".into(),
            user_id: None,
            workspace_member_id: member.map(str::to_string),
            api_key_id: None,
            connected_at: "2026-01-01T00:00:00.000Z".into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn sids(ix: &SocketIndex<u32>, topic: &str) -> Vec<u32> {
        let mut v: Vec<u32> = ix.subscribers(topic).map(|(s, _)| *s).collect();
        v.sort();
        v
    }

    #[test]
    fn tracks_topics_members_and_removal() {
        let mut ix = SocketIndex::default();
        assert_eq!(ix.insert(1, att("a", Some("m1"), &["t1", "t2"])), 1);
        assert_eq!(ix.insert(2, att("b", Some("m1"), &["t1"])), 2);
        assert_eq!(ix.insert(3, att("c", None, &[])), 0);
        assert_eq!(ix.len(), 3);
        assert_eq!(sids(&ix, "t1"), vec![1, 2]);
        assert_eq!(sids(&ix, "t2"), vec![1]);
        assert_eq!(sids(&ix, "none"), Vec::<u32>::new());
        assert_eq!(ix.member_connections("m1"), 2);
        let mut of_m1: Vec<u32> = ix.sockets_of_member("m1").copied().collect();
        of_m1.sort();
        assert_eq!(of_m1, vec![1, 2]);

        ix.set_topics("b", &["t2".to_string()]);
        assert_eq!(sids(&ix, "t1"), vec![1]);
        assert_eq!(sids(&ix, "t2"), vec![1, 2]);

        assert!(ix.remove("a").is_some());
        assert!(ix.remove("a").is_none(), "a second close is a no-op");
        assert_eq!(sids(&ix, "t1"), Vec::<u32>::new());
        assert!(
            !ix.topics.contains_key("t1"),
            "empty topic sets are dropped"
        );
        assert_eq!(ix.member_connections("m1"), 1);
        ix.remove("b");
        assert_eq!(ix.member_connections("m1"), 0);
        assert!(ix.members.is_empty());
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn reinserting_a_socket_replaces_it() {
        let mut ix = SocketIndex::default();
        ix.insert(1, att("a", Some("m1"), &["t1"]));
        assert_eq!(ix.insert(1, att("a", Some("m1"), &["t2"])), 1);
        assert_eq!(sids(&ix, "t1"), Vec::<u32>::new());
        assert_eq!(sids(&ix, "t2"), vec![1]);
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn set_topics_of_unknown_socket_is_ignored() {
        let mut ix: SocketIndex<u32> = SocketIndex::default();
        ix.set_topics("zz", &["t".to_string()]);
        assert!(ix.topics.is_empty());
    }
}
