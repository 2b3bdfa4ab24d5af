-- tests/lib/markdown.lua: checks on generated Markdown shared by the reference specs.
local M = {}

-- The first table row whose separator has a different number of columns than its header
-- (pipes escaped as \| or inside `code` spans do not separate columns), as a message; nil
-- when every table is well formed. Fenced blocks are skipped.
function M.table_error(md)
  local in_fence, cols = false, nil
  for line in md:gmatch("[^\n]*") do
    if line:match("^```") then in_fence = not in_fence end
    if not in_fence and line:match("^|") then
      local n = select(2, line:gsub("\\|", ""):gsub("`[^`]*`", ""):gsub("|", ""))
      if line:match("^| %-%-%-") and n ~= cols then
        return string.format("%d columns under a header of %s: %s", n, tostring(cols), line)
      end
      cols = n
    elseif not in_fence then
      cols = nil
    end
  end
  return nil
end

return M
