-- garden-eden schema, version 3: covering indexes for the satisfaction rule, so that scoring every
-- conversation (exports, filters) reads only index pages.
CREATE INDEX feedback_conversation_rating
    ON feedback (conversation_id, satisfaction) WHERE message_id IS NULL AND satisfaction IS NOT NULL;
CREATE INDEX feedback_conversation_thumbs
    ON feedback (conversation_id, thumbs) WHERE thumbs IS NOT NULL;
