import * as assert from 'node:assert/strict';
import { parseUserPattern, patternProblem } from '../../src/core/output/pattern';
import { InvalidInputError } from '../../src/tmux/errors';
import { Pane, Session, Tree, Window } from '../../src/tmux/model';
import { findPane, paneAddress } from '../../src/tmux/paneSpec';

function pane(id: string, index: number, active: boolean, sessionId: string, windowId: string): Pane {
  return { kind: 'pane', id, windowId, sessionId, index, active, pid: 1, currentCommand: 'bash', currentPath: '/', title: '', width: 80, height: 24, dead: false, inMode: false } as Pane;
}
function window(id: string, index: number, active: boolean, sessionId: string, panes: Pane[]): Window {
  return { kind: 'window', id, sessionId, index, name: 'w', active, zoomed: false, layout: '', activity: 0, panes } as unknown as Window;
}
function session(id: string, name: string, windows: Window[]): Session {
  return { kind: 'session', id, name, attachedClients: 0, created: 0, activity: 0, windows } as unknown as Session;
}

describe('findPane: a pane from what a person or a model writes', function () {
  // "a" and a session whose own name looks like an address of "a".
  const tree: Tree = {
    sessions: [
      session('$1', 'a', [window('@1', 0, false, '$1', [pane('%1', 0, true, '$1', '@1')]), window('@2', 1, true, '$1', [pane('%2', 0, false, '$1', '@2'), pane('%3', 1, true, '$1', '@2')])]),
      session('$2', 'a:1', [window('@3', 0, true, '$2', [pane('%4', 0, true, '$2', '@3')])]),
      session('$3', 'it\'s "x"; y', [window('@4', 2, true, '$3', [pane('%5', 0, true, '$3', '@4')])]),
    ],
    takenAt: 0,
  } as unknown as Tree;

  it('reads pane ids, session:window.pane, session:window and session names', function () {
    assert.equal(findPane(tree, '%2').id, '%2');
    assert.equal(findPane(tree, 'a:1.0').id, '%2');
    assert.equal(findPane(tree, 'a:0').id, '%1', 'the window\'s active pane');
    assert.equal(findPane(tree, 'a').id, '%3', 'the active window\'s active pane');
    assert.equal(findPane(tree, 'it\'s "x"; y:2.0').id, '%5');
  });

  it('prefers a whole session name over an address, and finds addresses in names that hold ":"', function () {
    assert.equal(findPane(tree, 'a:1').id, '%4', '"a:1" names a session, so it is not read as window 1 of "a"');
    assert.equal(findPane(tree, 'a:1:0.0').id, '%4');
  });

  it('says what to give when nothing matches', function () {
    assert.throws(() => findPane(tree, '%99'), InvalidInputError);
    assert.throws(() => findPane(tree, 'b:0.0'), /No pane matches "b:0\.0".*sessions: "a", "a:1"/);
    assert.throws(() => findPane(tree, 'a:7.0'), /No pane matches/);
  });

  it('names panes the way it reads them', function () {
    for (const id of ['%1', '%2', '%3', '%5']) assert.equal(findPane(tree, paneAddress(tree, findPane(tree, id))).id, id);
  });
});

describe('parseUserPattern', function () {
  it('takes /source/flags or a bare, multi-line pattern', function () {
    assert.deepEqual([parseUserPattern('/Ready/i').source, parseUserPattern('/Ready/i').flags], ['Ready', 'i']);
    assert.equal(parseUserPattern('^ready$').flags, 'm');
    assert.ok(parseUserPattern('^ready$').test('x\nready\ny'));
  });

  it('explains a pattern that is not one', function () {
    assert.match(patternProblem('a(b') ?? '', /Not a valid regular expression: .*Escape special characters/);
    assert.match(patternProblem('') ?? '', /empty/);
    assert.equal(patternProblem('port \\d+'), undefined);
  });
});
